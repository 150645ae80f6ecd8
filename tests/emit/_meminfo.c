	seq_puts(m, "patched meminfo\n");
	return 0;
