"""One module a platform's export: each reads the file as the platform writes
it and hands canonical products to a Catalog or canonical events to an
EventWriter (edgerec_train.canonical), counting what it drops and where."""
