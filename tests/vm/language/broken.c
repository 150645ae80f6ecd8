/* A program that does not compile: the test must say so at line 6 and
 * never start the VM. */
int main(void)
{
	int unused;
	return undeclared_on_purpose;
}
