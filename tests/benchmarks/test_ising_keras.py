from benchmarks import ising_keras
from scigan.ising.critic import StackedCritic
from scigan.ising.generators import StackedGenerator
from scigan.ising.models import parameters_per_model


def test_the_keras_reference_expects_the_models_parameter_counts():
    assert ising_keras.PARAMETERS == {
        "generator": parameters_per_model(StackedGenerator(1)),
        "critic": parameters_per_model(StackedCritic(1)),
    }
