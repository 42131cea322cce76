package llm

import (
	"fmt"
	"os"
	"strings"
)

// LoadAPIKey reads a service's API key from the environment variable or the
// file that the configuration names; the key itself never lives in the
// config file. The environment wins when both are set. Both empty means no
// key. The key is never part of an error message.
func LoadAPIKey(envVar, file string) (string, error) {
	if envVar != "" {
		if v := strings.TrimSpace(os.Getenv(envVar)); v != "" {
			return v, nil
		}
		if file == "" {
			return "", fmt.Errorf("API key: environment variable %s is unset or empty: export it, or name a key file instead", envVar)
		}
	}
	if file == "" {
		return "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("API key: read key file: %w (create it with the key on one line, readable only by you)", err)
	}
	key := strings.TrimSpace(string(b))
	if key == "" {
		return "", fmt.Errorf("API key: key file %s is empty: put the key on its first line", file)
	}
	if strings.ContainsAny(key, "\r\n") {
		return "", fmt.Errorf("API key: key file %s has several lines: keep only the key", file)
	}
	return key, nil
}
