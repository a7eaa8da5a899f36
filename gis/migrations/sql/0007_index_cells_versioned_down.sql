-- Nothing to undo: a database at 0006 with versioned cells is what the current 0003_index creates.
SELECT 1;
