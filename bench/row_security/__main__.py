from bench.row_security.run import main

main()
