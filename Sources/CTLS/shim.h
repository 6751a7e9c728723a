#ifndef AIOS_TLS_SHIM_H
#define AIOS_TLS_SHIM_H

// aiosd's own HTTP/1.1 client speaks TLS through these: OpenSSL's macros (SSL_set_tlsext_host_name,
// SSL_CTX_set_mode, ...) are invisible to Swift, and every handle is passed as void * so no OpenSSL type leaks out.

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <string.h>

/// A client context: TLS 1.2 or later, the peer always verified, buffers released while a connection is idle.
static inline void *_Nullable aios_tls_context_new(void) {
    SSL_CTX *context = SSL_CTX_new(TLS_client_method());
    if (context == NULL) return NULL;
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    // An EOF without close_notify ends the stream like close_notify: HTTP's own framing (Content-Length, chunked)
    // tells a cut-off body, as it does for plain HTTP.
    SSL_CTX_set_options(context, SSL_OP_IGNORE_UNEXPECTED_EOF);
    return context;
}

static inline void aios_tls_context_free(void *_Nullable context) { SSL_CTX_free((SSL_CTX *)context); }

/// Verifies against `store` (the shared system store); the context takes its own reference.
static inline int aios_tls_context_use_store(void *_Nonnull context, void *_Nonnull store) {
    if (X509_STORE_up_ref((X509_STORE *)store) != 1) return 0;
    SSL_CTX_set_cert_store((SSL_CTX *)context, (X509_STORE *)store);
    return 1;
}

/// Verifies against the hashed CA `directory` alone (the system's bundle file could not be read).
static inline int aios_tls_context_trust_directory(void *_Nonnull context, const char *_Nonnull directory) {
    return SSL_CTX_load_verify_locations((SSL_CTX *)context, NULL, directory);
}

/// Verifies against the certificates of a PEM bundle held in memory, and, when `directory` is set, the hashed CA
/// directory too (libcurl's CURLOPT_CAINFO_BLOB beside its compiled-in CA path). 0 when the bundle holds no
/// certificate.
static inline int aios_tls_context_trust_pem(void *_Nonnull context, const void *_Nonnull pem, int count,
                                             const char *_Nullable directory) {
    BIO *bio = BIO_new_mem_buf(pem, count);
    if (bio == NULL) return 0;
    STACK_OF(X509_INFO) *infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (infos == NULL) return 0;
    X509_STORE *store = X509_STORE_new();
    int added = 0;
    for (int index = 0; store != NULL && index < sk_X509_INFO_num(infos); index++) {
        X509_INFO *info = sk_X509_INFO_value(infos, index);
        if (info->x509 != NULL && X509_STORE_add_cert(store, info->x509) == 1) added++;
    }
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    if (store == NULL || added == 0 || (directory != NULL && X509_STORE_load_path(store, directory) != 1)) {
        X509_STORE_free(store);
        return 0;
    }
    SSL_CTX_set_cert_store((SSL_CTX *)context, store);
    return 1;
}

/// The client certificate (the first of `certificate`; any others are sent as its chain) and its key, both PEM.
/// 0 when either does not parse or the key is not the certificate's.
static inline int aios_tls_context_use_certificate(void *_Nonnull context, const void *_Nonnull certificate, int certificateCount,
                                                   const void *_Nonnull key, int keyCount) {
    SSL_CTX *ctx = (SSL_CTX *)context;
    BIO *bio = BIO_new_mem_buf(certificate, certificateCount);
    if (bio == NULL) return 0;
    X509 *leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    int ok = leaf != NULL && SSL_CTX_use_certificate(ctx, leaf) == 1;
    X509_free(leaf);
    X509 *next;
    while (ok && (next = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (SSL_CTX_add0_chain_cert(ctx, next) != 1) { X509_free(next); ok = 0; }
    }
    BIO_free(bio);
    ERR_clear_error();  // the end of the PEM data is reported as an error
    if (!ok) return 0;
    bio = BIO_new_mem_buf(key, keyCount);
    if (bio == NULL) return 0;
    EVP_PKEY *privateKey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ok = privateKey != NULL && SSL_CTX_use_PrivateKey(ctx, privateKey) == 1 && SSL_CTX_check_private_key(ctx) == 1;
    EVP_PKEY_free(privateKey);
    return ok;
}

/// A connection over the connected socket `fd`; `aios_tls_expect_name` says whom it must reach.
static inline void *_Nullable aios_tls_new(void *_Nonnull context, int fd) {
    SSL *ssl = SSL_new((SSL_CTX *)context);
    if (ssl == NULL) return NULL;
    if (SSL_set_fd(ssl, fd) != 1) { SSL_free(ssl); return NULL; }
    SSL_set_connect_state(ssl);
    return ssl;
}

/// The server's certificate must name `host`: a DNS name (also sent as SNI; no partial wildcards) or, when
/// `hostIsAddress`, an IP address that must be in the certificate's IP SANs. 0 when OpenSSL refused the name.
static inline int aios_tls_expect_name(void *_Nonnull ssl, const char *_Nonnull host, int hostIsAddress) {
    X509_VERIFY_PARAM *param = SSL_get0_param((SSL *)ssl);
    if (hostIsAddress) return X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1;
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return SSL_set1_host((SSL *)ssl, host) == 1 && SSL_set_tlsext_host_name((SSL *)ssl, host) == 1;
}

static inline void aios_tls_free(void *_Nullable ssl) { SSL_free((SSL *)ssl); }

/// What the last call asks for: 1 wait until readable, 2 until writable, 0 the connection ended (close_notify, or
/// EOF without one), -1 a TLS error (`aios_tls_error_text`), -2 a socket error (errno).
static inline int aios_tls_next_step(void *_Nonnull ssl, int result) {
    switch (SSL_get_error((SSL *)ssl, result)) {
    case SSL_ERROR_WANT_READ: return 1;
    case SSL_ERROR_WANT_WRITE: return 2;
    case SSL_ERROR_ZERO_RETURN: return 0;
    case SSL_ERROR_SYSCALL: return ERR_peek_error() == 0 ? -2 : -1;
    default: return -1;
    }
}

static inline int aios_tls_handshake(void *_Nonnull ssl) { return SSL_connect((SSL *)ssl); }
static inline int aios_tls_read(void *_Nonnull ssl, void *_Nonnull buffer, int count) { return SSL_read((SSL *)ssl, buffer, count); }
static inline int aios_tls_write(void *_Nonnull ssl, const void *_Nonnull buffer, int count) { return SSL_write((SSL *)ssl, buffer, count); }

/// Why the handshake or a transfer failed, from OpenSSL's static texts only (never data from the peer). Clears the
/// thread's error queue.
static inline void aios_tls_error_text(void *_Nullable ssl, char *_Nonnull buffer, size_t size) {
    long verified = ssl == NULL ? X509_V_OK : SSL_get_verify_result((SSL *)ssl);
    unsigned long code = ERR_get_error();
    if (verified != X509_V_OK) {
        snprintf(buffer, size, "the server's certificate was not accepted: %s", X509_verify_cert_error_string(verified));
    } else if (code != 0) {
        const char *reason = ERR_reason_error_string(code);
        snprintf(buffer, size, "TLS error: %s", reason != NULL ? reason : "unknown");
    } else {
        snprintf(buffer, size, "TLS error");
    }
    ERR_clear_error();
}

static inline void aios_tls_clear_errors(void) { ERR_clear_error(); }

/// A trust store of the certificates in `file` (read now) and a lookup in the hashed `directory` (read when a
/// verification needs it), the two sources libcurl reads itself; NULL when `file` cannot be read.
static inline void *_Nullable aios_x509_store_load(const char *_Nonnull file, const char *_Nullable directory) {
    X509_STORE *store = X509_STORE_new();
    if (store == NULL) return NULL;
    if (X509_STORE_load_file(store, file) != 1 || (directory != NULL && X509_STORE_load_path(store, directory) != 1)) {
        X509_STORE_free(store);
        ERR_clear_error();
        return NULL;
    }
    return store;
}

static inline void aios_x509_store_free(void *_Nullable store) { X509_STORE_free((X509_STORE *)store); }

#endif
