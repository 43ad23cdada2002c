import pytest

from scigan.core.casestudy import check_case_study
from scigan.core.errors import ConfigError
from scigan.core.registry import case_study_names, load_case_study, resolve_case_config
from scigan.dna.casestudy import DnaCaseStudy


def test_case_studies_are_registered_by_entry_points():
    assert {"dna", "blobs", "ising"} <= set(case_study_names())
    assert "core" not in case_study_names()
    assert isinstance(load_case_study("dna"), DnaCaseStudy)


def test_bundled_recipe_names_resolve():
    case = load_case_study("dna")
    assert resolve_case_config(case, "softmax", [])["model"]["head"] == "softmax"
    assert resolve_case_config(case, "thesis", []) == resolve_case_config(case, None, [])


def test_unknown_recipe_is_an_error_listing_the_recipes():
    with pytest.raises(ConfigError, match="neither a file nor a bundled recipe") as exc:
        resolve_case_config(load_case_study("dna"), "nope", [])
    assert "(softmax, thesis, wgan-gp)" in exc.value.fix


def test_the_contract_is_checked_at_registration():
    assert isinstance(check_case_study(DnaCaseStudy, "dna"), DnaCaseStudy)
    with pytest.raises(ConfigError, match="names a case study called 'dna'"):
        check_case_study(DnaCaseStudy, "genome")
    with pytest.raises(ConfigError, match="gives 42, not a CaseStudy"):
        check_case_study(42, "x")

    class Half(DnaCaseStudy):
        pass

    Half.__abstractmethods__ = frozenset({"evaluate"})
    with pytest.raises(ConfigError, match="Half lacks evaluate"):
        check_case_study(Half, "dna")

    class NoGenerator(DnaCaseStudy):
        build_generator = DnaCaseStudy.__mro__[1].build_generator

    with pytest.raises(ConfigError, match="implement build_generator"):
        check_case_study(NoGenerator, "dna")


def test_a_plugin_that_fails_to_import_is_a_clear_error(tmp_path, monkeypatch):
    info = tmp_path / "broken-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[scigan.case_studies]\nbroken = no_such_module:X\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "broken" in case_study_names()
    with pytest.raises(ConfigError, match=r"case study 'broken' \(no_such_module:X\) failed"):
        load_case_study("broken")


def test_no_registered_case_study_means_a_stale_install(monkeypatch):
    import scigan.core.registry as registry

    monkeypatch.setattr(registry, "entry_points", lambda group: [])
    with pytest.raises(ConfigError, match="no case study is registered") as exc:
        load_case_study("dna")
    assert "reinstall scigan" in exc.value.fix
