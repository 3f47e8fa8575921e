from bench.profile.run import main

main()
