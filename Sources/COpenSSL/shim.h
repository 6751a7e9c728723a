// Prefixed wrappers over OpenSSL's macros and variadic-free helpers the agent needs.
#ifndef AIOS_COPENSSL_SHIM_H
#define AIOS_COPENSSL_SHIM_H

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/opensslv.h>

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

#endif
