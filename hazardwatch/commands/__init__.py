"""One module per `hazardwatch` subcommand: each has add_parser(sub) and run(args)."""
