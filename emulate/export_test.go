package emulate

// StartFailure exposes Start's failure message to the tests.
var StartFailure = startFailure
