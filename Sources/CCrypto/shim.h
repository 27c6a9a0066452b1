// OpenSSL libcrypto headers (Debian: libssl-dev); the library itself is loaded on first use.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
