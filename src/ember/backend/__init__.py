"""Small PyTorch-side helpers shared by every ember package (internal)."""

from ember.backend.naming import clear_session, to_snake_case, unique_name
from ember.backend.dtypes import standardize_dtype, to_torch_dtype
from ember.backend.scope import in_symbolic_scope, symbolic_scope
from ember.backend.variable import Variable

__all__ = ["Variable", "clear_session", "to_snake_case", "unique_name", "in_symbolic_scope", "symbolic_scope", "standardize_dtype", "to_torch_dtype"]
