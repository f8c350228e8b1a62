package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/testserver"
)

func TestRun(t *testing.T) {
	url := testserver.Start(t, testserver.Options{})
	var out bytes.Buffer
	if err := run(context.Background(), url, "Once upon a time", &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), ", there was a little girl") {
		t.Fatalf("%q", out.String())
	}
}
