from bench.profile_import.run import main

main()
