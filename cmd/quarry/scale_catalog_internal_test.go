package main

import "testing"

// The skewed catalog has the document frequencies the scale benchmark's
// numbers are read against: customer in ~84% of datasets, revenue in
// ~11.5%; the uniform one keeps every word rare.
func TestScaleCatalogSkew(t *testing.T) {
	const n = 5000
	for _, tc := range []struct {
		uniform                  bool
		customerMin, customerMax float64
		revenueMin, revenueMax   float64
	}{
		{false, 0.80, 0.88, 0.095, 0.135},
		{true, 0.005, 0.03, 0.005, 0.03},
	} {
		c := newScaleCatalog(tc.uniform)
		df := map[string]int{}
		for i := range n {
			for w := range c.dataset(i).words() {
				df[w]++
			}
		}
		cust, rev := float64(df["customer"])/n, float64(df["revenue"])/n
		t.Logf("uniform=%v: customer in %.1f%%, revenue in %.1f%%, id in %.1f%%", tc.uniform, 100*cust, 100*rev, 100*float64(df["id"])/n)
		if cust < tc.customerMin || cust > tc.customerMax || rev < tc.revenueMin || rev > tc.revenueMax {
			t.Errorf("uniform=%v: customer in %.1f%% (want %.0f-%.0f%%), revenue in %.1f%% (want %.1f-%.1f%%)",
				tc.uniform, 100*cust, 100*tc.customerMin, 100*tc.customerMax, 100*rev, 100*tc.revenueMin, 100*tc.revenueMax)
		}
	}
	if a, b := newScaleCatalog(false).dataset(77), newScaleCatalog(false).dataset(77); a.Name != b.Name {
		t.Errorf("dataset 77 is %s, then %s: a dataset must be made again alike", a.Name, b.Name)
	}
}
