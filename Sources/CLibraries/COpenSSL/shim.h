#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

// OpenSSL "functions" that are macros over SSL_ctrl/SSL_CTX_ctrl and so do
// not import into Swift.
static inline long tickgate_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}
static inline long tickgate_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
static inline int tickgate_TLS1_2_VERSION(void) { return TLS1_2_VERSION; }
