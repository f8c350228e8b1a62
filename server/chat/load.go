package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxConfigBytes bounds tokenizer_config.json and chat_template.json reads.
const maxConfigBytes = 64 << 20

// Load finds a model directory's chat template the way transformers does:
// chat_template.jinja, then chat_template.json, then the "chat_template"
// of tokenizer_config.json (a string, or a list of {name, template} of
// which "default" is used). ErrNoTemplate if there is none.
func Load(modelDir string, opts ...Option) (*Template, error) {
	for _, name := range []string{"chat_template.jinja", "chat_template.json", "tokenizer_config.json"} {
		path := filepath.Join(modelDir, name)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		src, err := readTemplateFile(path)
		if errors.Is(err, ErrNoTemplate) && name == "chat_template.json" {
			continue
		}
		if err != nil {
			return nil, err
		}
		return Parse(src, opts...)
	}
	return nil, fmt.Errorf("%w in %s", ErrNoTemplate, modelDir)
}

// LoadFile loads a --chat-template file: a .json file holds a
// "chat_template" entry, anything else is template source.
func LoadFile(path string, opts ...Option) (*Template, error) {
	src, err := readTemplateFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(src, opts...)
}

func readTemplateFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("chat: %w", err)
	}
	defer f.Close()
	limit := int64(maxTemplateBytes)
	isJSON := strings.EqualFold(filepath.Ext(path), ".json")
	if isJSON {
		limit = maxConfigBytes
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return "", fmt.Errorf("chat: %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return "", fmt.Errorf("%w: %s is larger than %d bytes", ErrSyntax, path, limit)
	}
	if !isJSON {
		return string(data), nil
	}
	var cfg struct {
		ChatTemplate json.RawMessage `json:"chat_template"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrSyntax, path, err)
	}
	src, err := templateFromJSON(cfg.ChatTemplate)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return src, nil
}

// templateFromJSON reads a "chat_template" value: a string or a named list.
func templateFromJSON(raw json.RawMessage) (string, error) {
	if isJSONNull(raw) {
		return "", ErrNoTemplate
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var named []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(raw, &named); err != nil {
		return "", fmt.Errorf("%w: chat_template is neither a string nor a list of {name, template}", ErrSyntax)
	}
	for _, n := range named {
		if n.Name == "default" {
			return n.Template, nil
		}
	}
	return "", fmt.Errorf("%w: no template named \"default\"", ErrNoTemplate)
}
