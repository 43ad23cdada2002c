from benchmarks import blobs_keras
from scigan.blobs.models import Discriminator, Generator, count_parameters


def test_the_keras_reference_expects_the_models_parameter_counts():
    assert blobs_keras.PARAMETERS == {
        "generator": count_parameters(Generator()),
        "discriminator": count_parameters(Discriminator()),
    }
