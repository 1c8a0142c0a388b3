from services.verifier.app import main

main()
