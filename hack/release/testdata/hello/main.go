// Command hello stands in for the plugin in release's tests: a small
// program that cross-builds in seconds.
package main

import "fmt"

// version is stamped as the plugin's is.
var version string

func main() { fmt.Println("hello", version) }
