"""Update plans: how one list of variables maps onto an optimizer's state.

A plan is computed once per distinct list of variables (the optimizer caches it by
the variables' ids) and then reused every step, so the hot path does no per-variable
lookups: it splits the variables into groups sharing device and dtype (each group is
one set of ``torch._foreach_*`` launches), records each variable's index into the
slot lists, which variables take weight decay, and which carry a ``constraint``.
"""

__all__ = ["UpdatePlan", "VariableGroup", "make_update_plan"]

MSG_UNKNOWN_VARIABLE = (
    "Unknown variable: {}. This optimizer can only update the variables it was built "
    "with ({} of them). To train a new set of variables, create a new optimizer."
)


class VariableGroup:
    """Variables of one device and dtype within a plan.

    Attributes:
        positions: positions of the group's variables in the planned list, or None
            for the whole list.
        indices: the variables' indices into the optimizer's slot lists, or None when
            the group is exactly the built variables in order (slots used as is).
        decay: positions within the group that take weight decay, or None for all.
    """

    __slots__ = ("positions", "indices", "decay")

    def __init__(self, positions, indices, decay):
        self.positions = positions
        self.indices = indices
        self.decay = decay

    def take(self, items):
        """The group's entries of ``items`` (a list aligned with the planned variables)."""
        return items if self.positions is None else [items[p] for p in self.positions]


class UpdatePlan:
    """The groups of a list of variables, and the positions of those with a constraint.

    Attributes:
        groups: ``VariableGroup``s, one per (device, dtype).
        constrained: positions of the variables that carry a ``constraint``.
        indices: each planned variable's index into the optimizer's slot lists.
    """

    __slots__ = ("groups", "constrained", "indices")

    def __init__(self, groups, constrained, indices):
        self.groups = groups
        self.constrained = constrained
        self.indices = indices


def make_update_plan(variables, indices_by_id, num_built, use_weight_decay):
    """Plan updates of ``variables``.

    Args:
        variables: the variables updated together in one step.
        indices_by_id: ``{id(variable): index}`` for the variables the optimizer was built with.
        num_built: how many variables the optimizer was built with.
        use_weight_decay: ``variable -> bool``.

    Returns:
        An ``UpdatePlan``.

    Raises:
        ValueError: a variable the optimizer was not built with.
    """
    indices = []
    for variable in variables:
        index = indices_by_id.get(id(variable))
        if index is None:
            raise ValueError(MSG_UNKNOWN_VARIABLE.format(_describe(variable), num_built))
        indices.append(index)
    everything = indices == list(range(num_built))
    buckets = {}
    for position, variable in enumerate(variables):
        buckets.setdefault((variable.device, variable.dtype), []).append(position)
    whole = len(buckets) == 1
    groups = []
    for positions in buckets.values():
        decay = [i for i, p in enumerate(positions) if use_weight_decay(variables[p])]
        groups.append(
            VariableGroup(
                None if whole else positions,
                None if whole and everything else [indices[p] for p in positions],
                None if len(decay) == len(positions) else decay,
            )
        )
    constrained = [p for p, v in enumerate(variables) if getattr(v, "constraint", None) is not None]
    return UpdatePlan(groups, constrained, indices)


def _describe(variable):
    name = getattr(variable, "name", None)
    return f"<{type(variable).__name__} name={name!r} shape={tuple(variable.shape)}>"
