package viewsql

// ErrPanic lets the tests tell a recovered panic from a definition's error.
var ErrPanic = errPanic
