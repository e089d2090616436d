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

#include <openssl/evp.h>
#include <string.h>

// ALPN, server side: pick "h2" from what the client offers; without it the
// handshake fails (no_application_protocol alert), as gRPC requires.
static inline int tickgate_alpn_select_h2(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                                          const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl; (void)arg;
    static const unsigned char h2[] = {2, 'h', '2'};
    unsigned char *selected = NULL;
    if (SSL_select_next_proto(&selected, outlen, h2, sizeof h2, in, inlen) == OPENSSL_NPN_NEGOTIATED) {
        *out = selected;
        return SSL_TLSEXT_ERR_OK;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}
static inline void tickgate_SSL_CTX_require_alpn_h2(SSL_CTX *ctx) {
    SSL_CTX_set_alpn_select_cb(ctx, tickgate_alpn_select_h2, NULL);
}
// ALPN, client side: offer "h2" only. Returns 0 on success.
static inline int tickgate_SSL_offer_alpn_h2(SSL *ssl) {
    static const unsigned char h2[] = {2, 'h', '2'};
    return SSL_set_alpn_protos(ssl, h2, sizeof h2);
}
// The protocol ALPN settled on, or 0 bytes.
static inline unsigned int tickgate_SSL_alpn_selected(const SSL *ssl, char *out, unsigned int capacity) {
    const unsigned char *data = NULL;
    unsigned int length = 0;
    SSL_get0_alpn_selected(ssl, &data, &length);
    if (length > capacity) length = capacity;
    if (length > 0) memcpy(out, data, length);
    return length;
}

// Idle connections give their read and write buffers back (about 34 KiB
// each otherwise).
static inline void tickgate_SSL_CTX_release_buffers(SSL_CTX *ctx) {
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
}
