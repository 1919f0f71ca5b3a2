/* SPDX-License-Identifier: MIT */
/* Scatter-gather helpers over struct iovec (lengths summed in 64 bits). */
#ifndef POLLVM_DEVICES_IOV_H
#define POLLVM_DEVICES_IOV_H

#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

/* Copy up to len bytes out of iov, starting skip bytes in; returns bytes copied. */
static inline uint64_t iov_to_buf(const struct iovec *iov, unsigned n, uint64_t skip,
				  void *buf, uint64_t len)
{
	uint64_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		uint64_t l = iov[i].iov_len;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		uint64_t c = l - skip;
		if (c > len - done)
			c = len - done;
		if (!c)
			continue;
		memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + skip, c);
		done += c;
		skip = 0;
	}
	return done;
}

/* Copy up to len bytes into iov, starting skip bytes in; returns bytes copied. */
static inline uint64_t iov_from_buf_skip(const struct iovec *iov, unsigned n, uint64_t skip,
					 const void *buf, uint64_t len)
{
	uint64_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		uint64_t l = iov[i].iov_len;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		uint64_t c = l - skip;
		if (c > len - done)
			c = len - done;
		/* Empty segments may carry a NULL base (no address to check). */
		if (!c)
			continue;
		memcpy((uint8_t *)iov[i].iov_base + skip, (const uint8_t *)buf + done, c);
		done += c;
		skip = 0;
	}
	return done;
}

/* Copy up to len bytes into iov; returns bytes copied. */
static inline uint64_t iov_from_buf(const struct iovec *iov, unsigned n, const void *buf,
				    uint64_t len)
{
	return iov_from_buf_skip(iov, n, 0, buf, len);
}

/*
 * dst = the bytes [skip, skip + len) of src, as segments (empty ones
 * dropped).  dst has room for n entries.  Returns the number used.
 */
static inline unsigned iov_slice(struct iovec *dst, const struct iovec *src, unsigned n,
				 uint64_t skip, uint64_t len)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n && len; i++) {
		uint64_t l = src[i].iov_len;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		uint64_t c = l - skip;
		if (c > len)
			c = len;
		dst[k].iov_base = (uint8_t *)src[i].iov_base + skip;
		dst[k].iov_len = c;
		k++;
		len -= c;
		skip = 0;
	}
	return k;
}

/* Drop the first n bytes of *iov / *cnt in place (after a short transfer). */
static inline void iov_advance(struct iovec **iov, unsigned *cnt, uint64_t n)
{
	while (*cnt && n >= (*iov)->iov_len) {
		n -= (*iov)->iov_len;
		(*iov)++;
		(*cnt)--;
	}
	if (*cnt && n) {
		(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
		(*iov)->iov_len -= n;
	}
}

/* Zero every byte the segments cover. */
static inline void iov_zero(const struct iovec *iov, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		memset(iov[i].iov_base, 0, iov[i].iov_len);
}

static inline uint64_t iov_size(const struct iovec *iov, unsigned n)
{
	uint64_t s = 0;

	for (unsigned i = 0; i < n; i++)
		s += iov[i].iov_len;
	return s;
}

#endif
