"""PyTorch's OpInfo sample database (``op_db``) as the oracle for every chainrule op it names."""
