from scigan.ising import keras_reference
from scigan.ising.models import StackedCritic, StackedGenerator, parameters_per_model


def test_the_keras_reference_expects_the_models_parameter_counts():
    assert keras_reference.PARAMETERS == {
        "generator": parameters_per_model(StackedGenerator(1)),
        "critic": parameters_per_model(StackedCritic(1)),
    }
