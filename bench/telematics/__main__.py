from bench.telematics.run import main

main()
