from bench.consumer.run import main

main()
