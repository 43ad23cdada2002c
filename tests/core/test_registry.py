import pytest

from scigan.core.errors import ConfigError
from scigan.core.registry import case_study_names, load_case_study, resolve_case_config


def test_case_studies_are_discovered_from_folders():
    assert "dna" in case_study_names()
    assert "core" not in case_study_names()


def test_bundled_recipe_names_resolve():
    case = load_case_study("dna")
    assert resolve_case_config(case, "softmax", [])["model"]["head"] == "softmax"
    assert resolve_case_config(case, "thesis", []) == resolve_case_config(case, None, [])


def test_unknown_recipe_is_an_error():
    with pytest.raises(ConfigError, match="neither a file nor a bundled recipe"):
        resolve_case_config(load_case_study("dna"), "nope", [])
