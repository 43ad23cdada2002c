from benchmarks import dna_keras
from scigan.dna.models import Discriminator, Generator, count_parameters


def test_the_keras_reference_expects_the_models_parameter_counts():
    assert dna_keras.PARAMETERS == {
        "generator": count_parameters(Generator()),
        "discriminator": count_parameters(Discriminator()),
    }
