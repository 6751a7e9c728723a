// Prefixed wrappers over OpenSSL's macros and variadic-free helpers the agent needs.
#ifndef AIOS_COPENSSL_SHIM_H
#define AIOS_COPENSSL_SHIM_H

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

/// The runtime OpenSSL version text ("OpenSSL 3.0.x ..."), not the one compiled against.
static inline const char *_Nonnull aios_openssl_version_text(void) {
    return OpenSSL_version(OPENSSL_VERSION);
}

/// Cryptographically secure random bytes; 1 on success.
static inline int aios_openssl_random_bytes(unsigned char *_Nonnull buffer, int count) {
    return RAND_bytes(buffer, count);
}

/// SHA-256 of data into out (32 bytes); 1 on success.
static inline int aios_openssl_sha256(const void *_Nonnull data, size_t count, unsigned char *_Nonnull out) {
    unsigned int length = 0;
    return EVP_Digest(data, count, out, &length, EVP_sha256(), NULL);
}

/// HMAC-SHA-256 of data under key into out (32 bytes); 1 on success.
/// An HMAC-SHA-256 context with its digest set, made once and copied for each MAC: HMAC() looks the MAC and the
/// digest up in OpenSSL 3's provider store on every call (locks and name lookups: a few percent of a sync's CPU).
static inline EVP_MAC_CTX *_Nullable aios_openssl_hmac_sha256_template(void) {
    static EVP_MAC_CTX *template_context = NULL;
    EVP_MAC_CTX *current = __atomic_load_n(&template_context, __ATOMIC_ACQUIRE);
    if (current != NULL) return current;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) return NULL;
    EVP_MAC_CTX *made = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);  // the context holds its own reference
    if (made == NULL) return NULL;
    OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0), OSSL_PARAM_construct_end() };
    if (EVP_MAC_CTX_set_params(made, params) != 1) {
        EVP_MAC_CTX_free(made);
        return NULL;
    }
    EVP_MAC_CTX *expected = NULL;
    if (__atomic_compare_exchange_n(&template_context, &expected, made, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return made;
    EVP_MAC_CTX_free(made);  // another thread made it first
    return expected;
}

static inline int aios_openssl_hmac_sha256(const void *_Nonnull key, int keyCount,
                                           const unsigned char *_Nonnull data, size_t count,
                                           unsigned char *_Nonnull out) {
    EVP_MAC_CTX *template_context = aios_openssl_hmac_sha256_template();
    if (template_context == NULL || keyCount < 0) return 0;
    EVP_MAC_CTX *context = EVP_MAC_CTX_dup(template_context);
    if (context == NULL) return 0;
    size_t length = 0;
    int ok = EVP_MAC_init(context, (const unsigned char *)key, (size_t)keyCount, NULL) == 1
        && EVP_MAC_update(context, data, count) == 1
        && EVP_MAC_final(context, out, &length, 32) == 1 && length == 32;
    EVP_MAC_CTX_free(context);
    return ok;
}

// MARK: Errors

/// Empties this thread's error queue, so a later report is about the current operation.
static inline void aios_openssl_clear_errors(void) {
    ERR_clear_error();
}

/// The queue's first entry is the end of PEM input ("no start line"), not a fault.
#define AIOS_OPENSSL_ERROR_PEM_END 1
/// Some entry says an algorithm is not available (RC2-40 without the legacy provider, say).
#define AIOS_OPENSSL_ERROR_UNSUPPORTED 2

/// Empties this thread's error queue. Returns the reason of its first entry, usually the root cause
/// ("bad decrypt", "wrong tag"), or NULL if it was empty; flags gets AIOS_OPENSSL_ERROR_* bits.
/// Only the library's static reason text: never the entry's data, which can quote input.
static inline const char *_Nullable aios_openssl_take_error(int *_Nonnull flags) {
    *flags = 0;
    unsigned long first = ERR_get_error();
    if (first == 0) return NULL;
    if (ERR_GET_LIB(first) == ERR_LIB_PEM && ERR_GET_REASON(first) == PEM_R_NO_START_LINE)
        *flags |= AIOS_OPENSSL_ERROR_PEM_END;
    for (unsigned long code = first; code != 0; code = ERR_get_error()) {
        int reason = ERR_GET_REASON(code);
        if (reason == ERR_R_UNSUPPORTED || (ERR_GET_LIB(code) == ERR_LIB_EVP && reason == EVP_R_UNSUPPORTED_ALGORITHM))
            *flags |= AIOS_OPENSSL_ERROR_UNSUPPORTED;
    }
    return ERR_reason_error_string(first);
}

// MARK: Memory BIOs

/// A growable memory BIO for output; secure (cleared on free) when secure is nonzero, for key material.
static inline BIO *_Nullable aios_openssl_bio_new_memory(int secure) {
    return BIO_new(secure ? BIO_s_secmem() : BIO_s_mem());
}

/// Appends count bytes to a memory BIO and marks their end as end of input (not "retry"), for reading
/// back; returns the number written.
static inline int aios_openssl_bio_write(BIO *_Nonnull bio, const void *_Nonnull data, int count) {
    int written = BIO_write(bio, data, count);
    BIO_set_mem_eof_return(bio, 0);
    return written;
}

/// The bytes written to a memory BIO so far; valid until the BIO changes or is freed.
static inline long aios_openssl_bio_contents(BIO *_Nonnull bio, const char *_Nullable *_Nonnull contents) {
    char *pointer = NULL;
    long length = BIO_get_mem_data(bio, &pointer);
    *contents = pointer;
    return length;
}

static inline void aios_openssl_bio_free(BIO *_Nullable bio) {
    BIO_free(bio);
}

// MARK: PEM

/// The next PEM block from bio: its label ("CERTIFICATE"), headers and DER body, each to be released with
/// aios_openssl_free_pem_block. 0 at the end of the input (or on a malformed block).
static inline int aios_openssl_pem_read_block(BIO *_Nonnull bio, char *_Nullable *_Nonnull name,
                                              char *_Nullable *_Nonnull header,
                                              unsigned char *_Nullable *_Nonnull data, long *_Nonnull length) {
    return PEM_read_bio(bio, name, header, data, length);
}

/// Releases one block from aios_openssl_pem_read_block; the body is wiped first, it may be a key.
static inline void aios_openssl_free_pem_block(char *_Nullable name, char *_Nullable header,
                                               unsigned char *_Nullable data, long length) {
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_clear_free(data, length > 0 ? (size_t)length : 0);
}

/// Whether a block's headers mark a traditionally encrypted key ("Proc-Type: 4,ENCRYPTED").
static inline int aios_openssl_pem_header_is_encrypted(const char *_Nullable header) {
    return header != NULL && strstr(header, "ENCRYPTED") != NULL;
}

// MARK: Keys and certificates

/// A private key from DER: PKCS#8, or the traditional RSA or EC structures.
static inline EVP_PKEY *_Nullable aios_openssl_private_key_from_der(const unsigned char *_Nonnull data, long length) {
    const unsigned char *cursor = data;
    return d2i_AutoPrivateKey(NULL, &cursor, length);
}

/// Writes key to bio as unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"); 1 on success.
static inline int aios_openssl_private_key_write_pkcs8_pem(BIO *_Nonnull bio, EVP_PKEY *_Nonnull key) {
    return PEM_write_bio_PKCS8PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
}

static inline void aios_openssl_private_key_free(EVP_PKEY *_Nullable key) {
    EVP_PKEY_free(key);
}

static inline X509 *_Nullable aios_openssl_x509_from_der(const unsigned char *_Nonnull data, long length) {
    const unsigned char *cursor = data;
    return d2i_X509(NULL, &cursor, length);
}

/// Writes certificate to bio as PEM ("BEGIN CERTIFICATE"); 1 on success.
static inline int aios_openssl_x509_write_pem(BIO *_Nonnull bio, X509 *_Nonnull certificate) {
    return PEM_write_bio_X509(bio, certificate);
}

/// Takes another reference, so a certificate borrowed from a stack can outlive it; 1 on success.
static inline int aios_openssl_x509_up_ref(X509 *_Nonnull certificate) {
    return X509_up_ref(certificate);
}

static inline void aios_openssl_x509_free(X509 *_Nullable certificate) {
    X509_free(certificate);
}

/// 1 if certificate's public key is the public half of key. EVP_PKEY_eq, not X509_check_private_key:
/// a mismatch is an answer here, not an error to leave on the queue.
static inline int aios_openssl_x509_matches_key(X509 *_Nonnull certificate, EVP_PKEY *_Nonnull key) {
    EVP_PKEY *publicKey = X509_get0_pubkey(certificate);
    return publicKey != NULL && EVP_PKEY_eq(publicKey, key) == 1;
}

/// 1 if issuer issued subject: subject's issuer name is issuer's subject name, the key identifiers agree
/// when both are present, and issuer may sign certificates.
static inline int aios_openssl_x509_issued(X509 *_Nonnull issuer, X509 *_Nonnull subject) {
    return X509_check_issued(issuer, subject) == X509_V_OK;
}

// MARK: PKCS#12

static inline PKCS12 *_Nullable aios_openssl_pkcs12_from_der(const unsigned char *_Nonnull data, long length) {
    const unsigned char *cursor = data;
    return d2i_PKCS12(NULL, &cursor, length);
}

static inline void aios_openssl_pkcs12_free(PKCS12 *_Nullable p12) {
    PKCS12_free(p12);
}

/// 1 if the file has no MAC or its MAC verifies with password. An empty password is tried both ways
/// it gets encoded (absent, and as an empty BMPString), as PKCS12_parse does.
static inline int aios_openssl_pkcs12_verify_mac(PKCS12 *_Nonnull p12, const char *_Nonnull password) {
    if (!PKCS12_mac_present(p12)) return 1;
    if (*password == '\0') return PKCS12_verify_mac(p12, NULL, 0) || PKCS12_verify_mac(p12, "", 0);
    return PKCS12_verify_mac(p12, password, -1);
}

/// Decrypts the file: the key, the certificate PKCS12_parse pairs with it (may be NULL) and the other
/// certificates in file order (free with aios_openssl_x509_stack_free). 1 on success.
static inline int aios_openssl_pkcs12_parse(PKCS12 *_Nonnull p12, const char *_Nonnull password,
                                            EVP_PKEY *_Nullable *_Nonnull key, X509 *_Nullable *_Nonnull certificate,
                                            STACK_OF(X509) *_Nullable *_Nonnull others) {
    *key = NULL;
    *certificate = NULL;
    *others = NULL;
    return PKCS12_parse(p12, password, key, certificate, others);
}

static inline int aios_openssl_x509_stack_count(const STACK_OF(X509) *_Nullable stack) {
    return stack == NULL ? 0 : sk_X509_num(stack);
}

/// The certificate at index, borrowed from the stack.
static inline X509 *_Nullable aios_openssl_x509_stack_get(const STACK_OF(X509) *_Nonnull stack, int index) {
    return sk_X509_value(stack, index);
}

/// The certificate's notAfter as Unix seconds in *seconds (ASN1_TIME_diff from the epoch: no timegm). 1 on success.
static inline int aios_openssl_x509_not_after(X509 *_Nonnull certificate, long long *_Nonnull seconds) {
    const ASN1_TIME *notAfter = X509_get0_notAfter(certificate);
    ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
    int days = 0, rest = 0;
    int ok = notAfter != NULL && epoch != NULL && ASN1_TIME_diff(&days, &rest, epoch, notAfter) == 1;
    ASN1_TIME_free(epoch);
    if (ok) *seconds = (long long)days * 86400 + rest;
    return ok;
}

/// Frees the stack and every certificate still in it.
static inline void aios_openssl_x509_stack_free(STACK_OF(X509) *_Nullable stack) {
    sk_X509_pop_free(stack, X509_free);
}

#endif
