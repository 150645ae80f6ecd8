	return 0;
}

int hidden(void)
{
	return 1;
