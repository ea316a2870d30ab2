"""Config helpers shared by layers."""

from ember import activations


def activation_config(fn):
    """The activation's registered name, or the callable itself for a custom function.

    A custom callable keeps ``get_config()``/``from_config()`` working in memory;
    saving to a file needs a registered name (the saving code reports that).
    """
    try:
        return activations.serialize(fn)
    except ValueError:
        return fn
