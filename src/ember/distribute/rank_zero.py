"""Stand-ins for processes other than rank 0, which must not write files."""

__all__ = ["NullSummaryWriter"]


class NullSummaryWriter:
    """Accepts every ``SummaryWriter`` call and writes nothing (TensorBoard on processes other than rank 0)."""

    def __init__(self, *args, **kwargs):
        pass

    def __getattr__(self, name):
        def ignore(*args, **kwargs):
            return None

        return ignore
