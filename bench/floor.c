/*
 * bench/floor.c: a program that does nothing, linked like postie (libcurl,
 * libmagic, libpopt) or with libcurl alone.  Its run time is the floor that
 * the dynamic loader sets for any process linked with Debian's libcurl (its
 * ~30 dependent libraries), whatever the program itself does.
 */
int
main(void)
{
	return 0;
}
