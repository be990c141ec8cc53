package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDomainsImportMetricsFile (SPEC §13: metrics for import rows): the
// import writes its row counts as a Prometheus text file, and a failed
// import writes zero rows and success 0.
func TestDomainsImportMetricsFile(t *testing.T) {
	b := importBackends(t)[0]
	prom := filepath.Join(t.TempDir(), "import.prom")
	list := writeFile(t, "list.txt", "a.example\nb.example\na.example\nnot a domain\n")
	if _, errOut, code := cli(t, nil, "domains", "import", "--metrics-file", prom, list, b.db); code != 0 {
		t.Fatalf("import = %d %q", code, errOut)
	}
	body, err := os.ReadFile(prom)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`user_registry_domain_import_rows{list="blocked",result="imported"} 2`,
		`user_registry_domain_import_rows{list="blocked",result="duplicate"} 1`,
		`user_registry_domain_import_rows{list="blocked",result="skipped"} 1`,
		`user_registry_domain_import_rows{list="blocked",result="present"} 0`,
		`user_registry_domain_import_lines{list="blocked"} 4`,
		`user_registry_domain_import_success{list="blocked"} 1`,
	} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("metrics file lacks %q:\n%s", want, body)
		}
	}

	empty := writeFile(t, "empty.txt", "# nothing\n")
	if _, _, code := cli(t, nil, "domains", "import", "--allow", "--metrics-file", prom, empty, b.db); code == 0 {
		t.Fatal("an import of nothing succeeded")
	}
	body, _ = os.ReadFile(prom)
	if !strings.Contains(string(body), `user_registry_domain_import_success{list="allowed"} 0`+"\n") ||
		!strings.Contains(string(body), `user_registry_domain_import_rows{list="allowed",result="imported"} 0`+"\n") {
		t.Fatalf("failed import's metrics:\n%s", body)
	}
}
