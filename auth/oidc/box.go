package oidc

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// KeyFile holds the key of the login cookie, in the data directory.
const KeyFile = "auth.key"

// loadKey reads the 32-byte key in dir/auth.key, creating it (mode 0600)
// when missing; without a dir the key is this process's own (sign-ins under
// way do not survive a restart, which costs one more click).
func loadKey(dir string) ([]byte, error) {
	key := make([]byte, 32)
	if dir == "" {
		_, _ = rand.Read(key)
		return key, nil
	}
	path := filepath.Join(dir, KeyFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil && len(b) == len(key):
		return b, nil
	case err == nil:
		return nil, fmt.Errorf("%s holds %d bytes, not a %d-byte key: delete it to make a new one", path, len(b), len(key))
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("reading the cookie key: %w", err)
	}
	_, _ = rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating the cookie key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing the cookie key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("writing the cookie key: %w", err)
	}
	return key, nil
}

// box seals cookie values with AES-GCM: the browser can neither read (the
// PKCE verifier is a secret) nor forge (the state) what it carries back.
type box struct{ aead cipher.AEAD }

func newBox(key []byte) (*box, error) {
	c, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	a, err := cipher.NewGCM(c)
	if err != nil {
		return nil, err
	}
	return &box{a}, nil
}

func (b *box) seal(plain []byte) string {
	nonce := make([]byte, b.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(b.aead.Seal(nonce, nonce, plain, []byte(loginCookie)))
}

func (b *box) open(s string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return nil, errors.New("not a sealed value")
	}
	n := b.aead.NonceSize()
	return b.aead.Open(nil, raw[:n], raw[n:], []byte(loginCookie))
}
