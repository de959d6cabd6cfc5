"""The declared op set. Importing this package registers every op in ``archir.opdef.OPS``."""

from archir.ops import attention, conv, elementwise, norm_pool, shape, structure  # noqa: F401
