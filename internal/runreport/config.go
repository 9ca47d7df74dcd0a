package runreport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ConfigFile is the name of the YAML file beside a script that says what
// the script reads and writes, for `quarry run` to report.
const ConfigFile = "quarry-run.yaml"

// Config is a quarry-run.yaml:
//
//	server: http://quarry.internal:8080   # optional: else --server or $QUARRY_SERVER
//	job: cron/load_orders                 # optional: else --job
//	inputs:  ["postgres://shop-db:5432:shop.public.orders"]
//	outputs: ["redshift://wh.eu-west-1:5439:analytics.raw.orders"]
//	scripts:                              # per script (its file name), over the above
//	  load_refunds.sh:
//	    job: cron/load_refunds
//	    outputs: ["redshift://wh.eu-west-1:5439:analytics.raw.refunds"]
//
// Datasets are NAMESPACE:NAME, as --input and --output take them.
type Config struct {
	Server  string              `yaml:"server"`
	Job     string              `yaml:"job"`
	Inputs  []string            `yaml:"inputs"`
	Outputs []string            `yaml:"outputs"`
	Scripts map[string]*Section `yaml:"scripts"`
}

// Section is what a Config says of one script.
type Section struct {
	Job     string   `yaml:"job"`
	Inputs  []string `yaml:"inputs"`
	Outputs []string `yaml:"outputs"`
}

// LoadConfig reads a quarry-run.yaml and returns what it says of the
// script named (its base name; "" for none): the file's top level, with
// the script's section over it. Unknown keys are errors.
func LoadConfig(path, script string) (*Section, string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	s := &Section{Job: c.Job, Inputs: c.Inputs, Outputs: c.Outputs}
	if sc := c.Scripts[filepath.Base(script)]; script != "" && sc != nil {
		if sc.Job != "" {
			s.Job = sc.Job
		}
		if sc.Inputs != nil {
			s.Inputs = sc.Inputs
		}
		if sc.Outputs != nil {
			s.Outputs = sc.Outputs
		}
	}
	for _, list := range []struct {
		key string
		ds  []string
	}{{"inputs", s.Inputs}, {"outputs", s.Outputs}} {
		for i, d := range list.ds {
			if _, err := ParseDataset(d); err != nil {
				return nil, "", fmt.Errorf("%s: %s[%d]: %w", path, list.key, i, err)
			}
		}
	}
	return s, c.Server, nil
}

// FindConfig returns the quarry-run.yaml that describes a command and the
// script it runs: the one beside the script (the command itself when it
// is a path, else its first argument that is a file: sh load.sh, python
// etl/load.py), else the one in the working directory; "" when there is
// none.
func FindConfig(command []string) (path, script string) {
	script = Script(command)
	if script != "" {
		if p := filepath.Join(filepath.Dir(script), ConfigFile); isFile(p) {
			return p, script
		}
	}
	if isFile(ConfigFile) {
		return ConfigFile, script
	}
	return "", script
}

// Script is the script a command runs: the command when it is a path to a
// file, else its first argument that is a file, else "".
func Script(command []string) string {
	if len(command) == 0 {
		return ""
	}
	if strings.ContainsRune(command[0], filepath.Separator) && isFile(command[0]) {
		return command[0]
	}
	for _, a := range command[1:] {
		if !strings.HasPrefix(a, "-") && isFile(a) {
			return a
		}
	}
	return ""
}

func isFile(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.Mode().IsRegular()
}
