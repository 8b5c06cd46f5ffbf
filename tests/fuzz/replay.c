/*
 * Replays a corpus through one fuzz target without libFuzzer, so that every
 * seed and every past crash runs under gcc in "make check".  Arguments are
 * files or directories; with none, the corpus is
 * $POSTIE_SRCDIR/tests/fuzz/corpus/NAME where the program is replay_NAME.
 */
#include "autoconfig.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* Defined by the targets that need one-time set-up. */
int	LLVMFuzzerInitialize(int *, char ***) __attribute__((__weak__));

static int	replay_path(const char *, size_t *);
static int	replay_file(const char *);
static int	cmp_names(const void *, const void *);

int
main(int argc, char **argv)
{
	const char	*srcdir, *base;
	char		*dir = NULL;
	size_t		 n = 0;
	int		 i, rc = 0;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (i = 1; i < argc; i++)
			if (replay_path(argv[i], &n) == -1)
				rc = 99;
	} else {
		if ((srcdir = getenv("POSTIE_SRCDIR")) == NULL) {
			fprintf(stderr, "replay: no corpus given and "
			    "POSTIE_SRCDIR not set\n");
			return 99;
		}
		base = strrchr(argv[0], '/');
		base = base != NULL ? base + 1 : argv[0];
		if (strncmp(base, "replay_", 7) != 0) {
			fprintf(stderr, "replay: cannot tell the target from "
			    "'%s'\n", argv[0]);
			return 99;
		}
		if (asprintf(&dir, "%s/tests/fuzz/corpus/%s", srcdir,
		    base + 7) == -1)
			return 99;
		if (replay_path(dir, &n) == -1)
			rc = 99;
		free(dir);
	}
	/* An empty corpus would make the test pass without testing. */
	if (n == 0) {
		fprintf(stderr, "replay: no input files\n");
		return 99;
	}
	fprintf(stderr, "replay: %zu inputs ran clean\n", n);
	return rc;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file, or every regular file of a directory (sorted, not recursive). */
static int
replay_path(const char *path, size_t *n)
{
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;
	char		**names = NULL, *p;
	size_t		 nn = 0, cap = 0, i;
	int		 rc = 0;

	if (stat(path, &st) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (replay_file(path) == -1)
			return -1;
		(*n)++;
		return 0;
	}
	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", path, de->d_name) == -1) {
			rc = -1;
			break;
		}
		if (stat(p, &st) == -1 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		if (nn == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			if (names == NULL)
				abort();
		}
		names[nn++] = p;
	}
	closedir(d);
	if (nn > 0)
		qsort(names, nn, sizeof(*names), cmp_names);
	for (i = 0; i < nn; i++) {
		if (replay_file(names[i]) == -1)
			rc = -1;
		else
			(*n)++;
		free(names[i]);
	}
	free(names);
	return rc;
}

static int
replay_file(const char *path)
{
	FILE	*f;
	uint8_t	*data;
	long	 len;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) == -1 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) == -1) {
		fprintf(stderr, "replay: %s: cannot size\n", path);
		fclose(f);
		return -1;
	}
	/* Exactly len bytes, so ASan sees reads past the input. */
	if ((data = malloc(len > 0 ? (size_t)len : 1)) == NULL)
		abort();
	if (len > 0 && fread(data, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(data);
		fclose(f);
		return -1;
	}
	fclose(f);
	fprintf(stderr, "replay: %s\n", path);
	LLVMFuzzerTestOneInput(data, (size_t)len);
	free(data);
	return 0;
}
