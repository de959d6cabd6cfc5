"""Search spaces as choice IR: each module builds one space (an ``archir.Module`` with
``param`` decisions and ``choice`` ops) behind the common ``Space`` interface."""
