package storage

// DomainImport counts what DomainStore.ImportDomains did with its records:
// Inserted had no record, Updated had one with another BelongsTo, Unchanged
// had one with the same BelongsTo (and was left alone, UpdatedAt included).
type DomainImport struct {
	Inserted  int
	Updated   int
	Unchanged int
}
