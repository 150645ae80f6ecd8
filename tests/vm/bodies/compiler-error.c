{
	seq_printf(m, "%s\n", kgpc_undeclared_in_body_file);
	return 0;
}
