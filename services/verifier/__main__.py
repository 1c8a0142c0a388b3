from services.verifier.serve import main

main()
