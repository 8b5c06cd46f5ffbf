/*
 * The transport's certificate pinning: tls_fingerprint parsed, and with
 * the OpenSSL backend the server's certificate hashed in OpenSSL's
 * verify callback (libcurl pins public keys only).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#ifdef HAVE_OPENSSL
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#endif

#include "error.h"
#include "transport_int.h"
#include "util.h"

#ifdef HAVE_OPENSSL
int	fp_index = -1;	/* our SSL_CTX ex_data slot */
#endif

/*
 * tls_fingerprint comes in two forms:
 *  - "sha256//BASE64": libcurl's pin of the SHA-256 of the server's
 *    public key (SubjectPublicKeyInfo), as "openssl x509 -pubkey | openssl
 *    pkey -pubin -outform der | openssl dgst -sha256 -binary | base64"
 *    prints it.  Checked by libcurl itself (CURLOPT_PINNEDPUBLICKEY).
 *  - 32 hex bytes with or without colons: msmtp's form, the SHA-256 of the
 *    whole certificate ("openssl x509 -noout -fingerprint -sha256").
 *    libcurl cannot pin certificate hashes, so with the OpenSSL backend
 *    the peer certificate is hashed in OpenSSL's verify callback, before
 *    the handshake completes and before any SMTP command goes out.
 * msmtp's SHA-1 and MD5 forms are refused: too weak to pin with.  When a
 * fingerprint is set, it replaces chain and host name verification, as
 * in msmtp.
 */
int
parse_fingerprint(struct transport *t, const char *s, const char **pin,
    struct error *err)
{
	size_t	n = 0;
	int	hi, lo;

	*pin = NULL;
	if (strncmp(s, "sha256//", 8) == 0) {
		*pin = s;
		return 0;
	}
	while (*s != '\0') {
		if (*s == ':') {
			s++;
			continue;
		}
		if (n == FP_LEN || (hi = util_hexval(s[0])) < 0 ||
		    (lo = util_hexval(s[1])) < 0)
			break;
		t->fp[n++] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	if (*s != '\0' || (n != FP_LEN && n != 20 && n != 16))
		return error_set(err, EX_CONFIG, "tls_fingerprint: expected "
		    "a SHA-256 fingerprint (32 hex bytes, AB:CD:...) or "
		    "sha256//BASE64");
	if (n != FP_LEN)
		return error_set(err, EX_CONFIG, "tls_fingerprint: SHA-1 and "
		    "MD5 fingerprints are not accepted; use the SHA-256 one "
		    "(openssl x509 -noout -fingerprint -sha256)");
#ifdef HAVE_OPENSSL
	{
		const curl_version_info_data *vi;

		vi = curl_version_info(CURLVERSION_NOW);
		if (vi->ssl_version == NULL ||
		    strncmp(vi->ssl_version, "OpenSSL", 7) != 0)
			return error_set(err, EX_CONFIG, "tls_fingerprint: "
			    "a certificate fingerprint needs libcurl's "
			    "OpenSSL backend (this one is %s); use the "
			    "sha256//BASE64 public key form",
			    vi->ssl_version != NULL ? vi->ssl_version :
			    "none");
	}
	t->fp_cert = 1;
	return 0;
#else
	return error_set(err, EX_CONFIG, "tls_fingerprint: this build cannot "
	    "check certificate fingerprints (built without OpenSSL); use the "
	    "sha256//BASE64 public key form");
#endif
}

#ifdef HAVE_OPENSSL
/*
 * OpenSSL's verify callback, once per certificate of the chain and at
 * least once for the server's own (depth 0).  With a certificate pin,
 * chain errors are ignored: the fingerprint of the server's certificate
 * decides alone.  Without one, OpenSSL's verdict (ok) is returned as it
 * is, and the server's certificate is only hashed into fp_seen.
 */
int
fp_verify(int ok, X509_STORE_CTX *xs)
{
	SSL			*ssl;
	struct transport	*t;
	X509			*cert;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0, i;

	ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL)
		return 0;
	t = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), fp_index);
	if (t == NULL)
		return 0;
	if (!t->fp_cert) {
		/*
		 * No pin: OpenSSL's verdict stands; the server's own
		 * certificate is only hashed, so that a "not trusted" line
		 * can print the fingerprint tls_fingerprint would take.
		 */
		cert = X509_STORE_CTX_get0_cert(xs);
		if (cert != NULL && X509_digest(cert, EVP_sha256(), md,
		    &mdlen) == 1 && mdlen == FP_LEN)
			for (i = 0; i < FP_LEN; i++)
				snprintf(t->fp_seen + i * 3, 4, "%02X%s",
				    md[i], i + 1 < FP_LEN ? ":" : "");
		return ok;
	}
	if (X509_STORE_CTX_get_error_depth(xs) != 0)
		return 1;
	cert = X509_STORE_CTX_get_current_cert(xs);
	if (cert == NULL || X509_digest(cert, EVP_sha256(), md, &mdlen) != 1 ||
	    mdlen != FP_LEN)
		return 0;
	if (memcmp(md, t->fp, FP_LEN) == 0) {
		t->fp_ok = 1;
		return 1;
	}
	t->fp_bad = 1;
	for (i = 0; i < FP_LEN; i++)
		snprintf(t->fp_seen + i * 3, 4, "%02X%s", md[i],
		    i + 1 < FP_LEN ? ":" : "");
	return 0;
}

/* Called by libcurl for each new TLS connection, before the handshake. */
CURLcode
on_sslctx(CURL *h, void *sslctx, void *arg)
{
	struct transport	*t = arg;
	SSL_CTX			*ctx = sslctx;

	(void)h;
	t->fp_ok = 0;
	t->fp_seen[0] = '\0';
	if (fp_index < 0 || SSL_CTX_set_ex_data(ctx, fp_index, t) != 1)
		return CURLE_SSL_CONNECT_ERROR;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, fp_verify);
	return CURLE_OK;
}
#endif
