package store

// Exported for tests.
var (
	EncodeLogEntry = encodeLogEntry
	DecodeLogEntry = decodeLogEntry
)
