from scigan.dna import keras_reference
from scigan.dna.models import Discriminator, Generator, count_parameters


def test_the_keras_reference_expects_the_models_parameter_counts():
    assert keras_reference.PARAMETERS == {
        "generator": count_parameters(Generator()),
        "discriminator": count_parameters(Discriminator()),
    }
