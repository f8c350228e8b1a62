// Package hf wraps github.com/daulet/tokenizers (Hugging Face's Rust
// tokenizers through cgo) behind the same Encode/Decode method set as the
// pure-Go tokenizer.Tokenizer, as a reference or fallback implementation.
//
// It is compiled only with the build tag hftokenizers and needs the Rust
// static library libtokenizers.a at link time (see README.md); without the
// tag this package is empty.
package hf
