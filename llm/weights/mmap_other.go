//go:build !unix

package weights

import "os"

// mapFile reads path into memory where mmap is unavailable.
func mapFile(path string) ([]byte, func() error, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, &Error{File: path, Msg: err.Error(), Kind: err}
	}
	if len(b) == 0 {
		return nil, nil, newErr(path, ErrFormat, "empty file")
	}
	return b, func() error { return nil }, nil
}
