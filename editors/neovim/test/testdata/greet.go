package greet

// Greet says hello to name. Ünïcødé comment to exercise UTF-16 columns.
func Greet(name string) string {
	return "Hello, " + name
}
