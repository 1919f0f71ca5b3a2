/* SPDX-License-Identifier: MIT */
#include "cmdline.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cmdline_init(struct cmdline *c, size_t max)
{
	c->buf[0] = '\0';
	c->len = 0;
	c->max = max < sizeof(c->buf) ? max : sizeof(c->buf);
}

int cmdline_append(struct cmdline *c, const char *s)
{
	size_t n = strlen(s);
	size_t sep = c->len ? 1 : 0;

	if (n == 0)
		return 0;
	/* len + separator + word + NUL must fit in max. */
	if (n >= c->max || c->len + sep + n + 1 > c->max)
		return -E2BIG;
	if (sep)
		c->buf[c->len++] = ' ';
	memcpy(c->buf + c->len, s, n + 1);
	c->len += n;
	return 0;
}

int cmdline_appendf(struct cmdline *c, const char *fmt, ...)
{
	char tmp[sizeof(c->buf)];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(tmp))
		return -E2BIG;
	return cmdline_append(c, tmp);
}

int cmdline_has(const struct cmdline *c, const char *key)
{
	size_t k = strlen(key);
	const char *p = c->buf;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, k) && (p[k] == '\0' || p[k] == ' ' || p[k] == '='))
			return 1;
		while (*p && *p != ' ')
			p++;
	}
	return 0;
}
