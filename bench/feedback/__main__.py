from bench.feedback.run import main

main()
