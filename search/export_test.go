package search

import "github.com/blevesearch/bleve/v2"

// SetMappingVersionForTest makes the closed index in dir look built by
// another mapping version.
func SetMappingVersionForTest(dir, v string) error {
	idx, err := bleve.Open(dir)
	if err != nil {
		return err
	}
	defer idx.Close()
	return idx.SetInternal(keyVersion, []byte(v))
}

// MappingVersion is the mapping version of the serving index.
func (x *Index) MappingVersion() string {
	idx, err := x.current()
	if err != nil {
		return ""
	}
	defer x.mu.RUnlock()
	v, _ := idx.GetInternal(keyVersion)
	return string(v)
}
